package seed

// Word lists for the demo data: Liaoning's regions, GB/T 4754-2017 industries, personal names
// and trade names. They are read-only tables; generation only indexes them, so the same seed
// always picks the same words.

// region is a district or county of Liaoning (GB/T 2260).
type region struct {
	Code  string // 6-digit GB/T 2260 code, 21xxxx
	City  string // prefecture-level city, e.g. 沈阳市
	Short string // the city without 市, e.g. 沈阳 (used in company names)
	Abbr  string // one-character abbreviation used in document numbers, e.g. 沈
	Name  string // the district or county, e.g. 和平区
}

// county reports whether the region is a county or county-level city (codes 2x and 8x),
// as opposed to a city district (0x and 1x).
func (r region) county() bool { return r.Code[4] >= '2' }

// local is the region's name as authorities use it: 沈阳市和平区 for a district, 新民市 or
// 法库县 for a county-level unit.
func (r region) local() string {
	if r.county() {
		return r.Name
	}
	return r.City + r.Name
}

// court is the basic people's court of the region.
func (r region) court() string { return r.local() + "人民法院" }

// courtCode is the code used in case numbers, e.g. 辽0102 for the court of 和平区.
func (r region) courtCode() string { return "辽" + r.Code[2:] }

// customsOffice is the customs district: Dalian for the coastal cities, Shenyang inland.
func (r region) customsOffice() string {
	switch r.Short {
	case "大连", "丹东", "锦州", "营口", "盘锦", "葫芦岛":
		return "大连海关"
	}
	return "沈阳海关"
}

type city struct {
	name, short, abbr string
	areas             [][2]string // code, name
}

// liaoning lists the districts and counties of Liaoning's 14 prefecture-level cities.
var liaoning = []city{
	{"沈阳市", "沈阳", "沈", [][2]string{
		{"210102", "和平区"}, {"210103", "沈河区"}, {"210104", "大东区"}, {"210105", "皇姑区"},
		{"210106", "铁西区"}, {"210111", "苏家屯区"}, {"210112", "浑南区"}, {"210113", "沈北新区"},
		{"210114", "于洪区"}, {"210115", "辽中区"}, {"210123", "康平县"}, {"210124", "法库县"},
		{"210181", "新民市"},
	}},
	{"大连市", "大连", "大", [][2]string{
		{"210202", "中山区"}, {"210203", "西岗区"}, {"210204", "沙河口区"}, {"210211", "甘井子区"},
		{"210212", "旅顺口区"}, {"210213", "金州区"}, {"210214", "普兰店区"}, {"210224", "长海县"},
		{"210281", "瓦房店市"}, {"210283", "庄河市"},
	}},
	{"鞍山市", "鞍山", "鞍", [][2]string{
		{"210302", "铁东区"}, {"210303", "铁西区"}, {"210304", "立山区"}, {"210311", "千山区"},
		{"210321", "台安县"}, {"210323", "岫岩满族自治县"}, {"210381", "海城市"},
	}},
	{"抚顺市", "抚顺", "抚", [][2]string{
		{"210402", "新抚区"}, {"210403", "东洲区"}, {"210404", "望花区"}, {"210411", "顺城区"},
		{"210421", "抚顺县"}, {"210422", "新宾满族自治县"}, {"210423", "清原满族自治县"},
	}},
	{"本溪市", "本溪", "本", [][2]string{
		{"210502", "平山区"}, {"210503", "溪湖区"}, {"210504", "明山区"}, {"210505", "南芬区"},
		{"210521", "本溪满族自治县"}, {"210522", "桓仁满族自治县"},
	}},
	{"丹东市", "丹东", "丹", [][2]string{
		{"210602", "元宝区"}, {"210603", "振兴区"}, {"210604", "振安区"}, {"210624", "宽甸满族自治县"},
		{"210681", "东港市"}, {"210682", "凤城市"},
	}},
	{"锦州市", "锦州", "锦", [][2]string{
		{"210702", "古塔区"}, {"210703", "凌河区"}, {"210711", "太和区"}, {"210726", "黑山县"},
		{"210727", "义县"}, {"210781", "凌海市"}, {"210782", "北镇市"},
	}},
	{"营口市", "营口", "营", [][2]string{
		{"210802", "站前区"}, {"210803", "西市区"}, {"210804", "鲅鱼圈区"}, {"210811", "老边区"},
		{"210881", "盖州市"}, {"210882", "大石桥市"},
	}},
	{"阜新市", "阜新", "阜", [][2]string{
		{"210902", "海州区"}, {"210903", "新邱区"}, {"210904", "太平区"}, {"210905", "清河门区"},
		{"210911", "细河区"}, {"210921", "阜新蒙古族自治县"}, {"210922", "彰武县"},
	}},
	{"辽阳市", "辽阳", "辽", [][2]string{
		{"211002", "白塔区"}, {"211003", "文圣区"}, {"211004", "宏伟区"}, {"211005", "弓长岭区"},
		{"211011", "太子河区"}, {"211021", "辽阳县"}, {"211081", "灯塔市"},
	}},
	{"盘锦市", "盘锦", "盘", [][2]string{
		{"211102", "双台子区"}, {"211103", "兴隆台区"}, {"211104", "大洼区"}, {"211122", "盘山县"},
	}},
	{"铁岭市", "铁岭", "铁", [][2]string{
		{"211202", "银州区"}, {"211204", "清河区"}, {"211221", "铁岭县"}, {"211223", "西丰县"},
		{"211224", "昌图县"}, {"211281", "调兵山市"}, {"211282", "开原市"},
	}},
	{"朝阳市", "朝阳", "朝", [][2]string{
		{"211302", "双塔区"}, {"211303", "龙城区"}, {"211321", "朝阳县"}, {"211322", "建平县"},
		{"211324", "喀喇沁左翼蒙古族自治县"}, {"211381", "北票市"}, {"211382", "凌源市"},
	}},
	{"葫芦岛市", "葫芦岛", "葫", [][2]string{
		{"211402", "连山区"}, {"211403", "龙港区"}, {"211404", "南票区"}, {"211421", "绥中县"},
		{"211422", "建昌县"}, {"211481", "兴城市"},
	}},
}

// regionTable flattens liaoning into regions, in table order.
type regionTable struct {
	all      []region
	counties []region
	byCode   map[string]region
}

func newRegionTable() regionTable {
	t := regionTable{byCode: map[string]region{}}
	for _, c := range liaoning {
		for _, a := range c.areas {
			r := region{Code: a[0], City: c.name, Short: c.short, Abbr: c.abbr, Name: a[1]}
			t.all = append(t.all, r)
			if r.county() {
				t.counties = append(t.counties, r)
			}
			t.byCode[r.Code] = r
		}
	}
	return t
}

// industry is a GB/T 4754-2017 class with the words that go with it.
type industry struct {
	Code     string   // section letter + 4-digit class, e.g. C3421
	Name     string   // the class's name in the standard
	Words    []string // name words: an enterprise's industry word, a shop's kind, a cooperative's line
	Goods    []string // tax classification style invoice lines, "*category*item"
	Licences []string // administrative licences such a business typically holds
	Class    int      // Nice class of its trademarks
}

// enterpriseIndustries are the classes of the generated companies.
var enterpriseIndustries = []industry{
	{"C3421", "金属切削机床制造", []string{"机床", "精密机械", "数控机床"}, []string{"*通用设备*数控车床", "*通用设备*立式加工中心"}, []string{"排污许可证"}, 7},
	{"C3451", "滚动轴承制造", []string{"轴承", "轴承制造"}, []string{"*通用设备*深沟球轴承", "*通用设备*圆锥滚子轴承"}, []string{"排污许可证"}, 7},
	{"C3670", "汽车零部件及配件制造", []string{"汽车零部件", "汽车配件"}, []string{"*汽车零部件*制动盘", "*汽车零部件*转向节"}, []string{"排污许可证"}, 12},
	{"C3411", "锅炉及辅助设备制造", []string{"锅炉", "锅炉制造"}, []string{"*通用设备*燃气热水锅炉"}, []string{"特种设备生产许可证", "排污许可证"}, 11},
	{"C3441", "泵及真空设备制造", []string{"泵业", "水泵"}, []string{"*通用设备*单级离心泵"}, []string{"排污许可证"}, 7},
	{"C3311", "金属结构制造", []string{"钢结构", "金属结构"}, []string{"*金属制品*钢结构件"}, []string{"排污许可证"}, 6},
	{"C3130", "钢压延加工", []string{"钢材", "特钢"}, []string{"*钢材*热轧钢板"}, []string{"排污许可证"}, 6},
	{"C3823", "配电开关控制设备制造", []string{"电气", "电力设备"}, []string{"*输配电控制设备*高低压开关柜"}, []string{"工业产品生产许可证"}, 9},
	{"C2614", "有机化学原料制造", []string{"化工", "精细化工"}, []string{"*化学原料*乙酸乙酯"}, []string{"安全生产许可证", "排污许可证"}, 1},
	{"C2922", "塑料板、管、型材制造", []string{"塑料制品", "塑业"}, []string{"*塑料制品*PE给水管"}, []string{"工业产品生产许可证"}, 17},
	{"C2710", "化学药品原料药制造", []string{"制药", "药业"}, []string{"*化学药品原料药*盐酸二甲双胍"}, []string{"药品生产许可证", "排污许可证"}, 5},
	{"C1431", "米、面制品制造", []string{"食品", "面业"}, []string{"*谷物加工品*挂面"}, []string{"食品生产许可证"}, 30},
	{"C1512", "白酒制造", []string{"酒业", "酿酒"}, []string{"*酒*白酒"}, []string{"食品生产许可证"}, 33},
	{"C1830", "服饰制造", []string{"服饰", "制衣"}, []string{"*服装*工作服"}, nil, 25},
	{"E4710", "住宅房屋建筑", []string{"建筑工程", "建设"}, []string{"*建筑服务*工程服务"}, []string{"建筑业企业资质证书", "安全生产许可证"}, 37},
	{"E4813", "市政道路工程建筑", []string{"市政工程", "路桥工程"}, []string{"*建筑服务*市政道路工程"}, []string{"建筑业企业资质证书", "安全生产许可证"}, 37},
	{"E4910", "电气安装", []string{"电气安装", "机电安装"}, []string{"*建筑服务*电气安装服务"}, []string{"建筑业企业资质证书", "承装（修、试）电力设施许可证"}, 37},
	{"E5012", "住宅装饰和装修", []string{"装饰工程", "装饰"}, []string{"*建筑服务*装饰装修服务"}, []string{"建筑业企业资质证书"}, 37},
	{"F5165", "建材批发", []string{"建材", "建材贸易"}, []string{"*水泥*普通硅酸盐水泥"}, nil, 19},
	{"F5164", "金属及金属矿批发", []string{"金属材料", "物资"}, []string{"*钢材*螺纹钢"}, nil, 6},
	{"F5174", "五金产品批发", []string{"五金", "五金机电"}, []string{"*金属制品*紧固件"}, nil, 6},
	{"F5121", "米、面制品及食用油批发", []string{"粮油", "粮油贸易"}, []string{"*谷物*大米"}, []string{"食品经营许可证"}, 30},
	{"F5191", "再生物资回收与批发", []string{"再生资源", "物资回收"}, []string{"*再生资源*废钢"}, nil, 40},
	{"F5212", "超级市场零售", []string{"商贸", "超市"}, []string{"*日用杂品*日用品"}, []string{"食品经营许可证"}, 35},
	{"G5431", "普通货物道路运输", []string{"物流", "运输"}, []string{"*运输服务*国内道路货物运输服务"}, []string{"道路运输经营许可证"}, 39},
	{"H6110", "旅游饭店", []string{"酒店管理", "宾馆"}, []string{"*住宿服务*住宿费"}, []string{"食品经营许可证", "公共场所卫生许可证"}, 43},
	{"H6210", "正餐服务", []string{"餐饮管理", "餐饮"}, []string{"*餐饮服务*餐饮服务"}, []string{"食品经营许可证"}, 43},
	{"I6513", "应用软件开发", []string{"软件", "软件技术", "信息科技"}, []string{"*信息技术服务*软件开发服务"}, []string{"增值电信业务经营许可证"}, 42},
	{"I6531", "信息系统集成服务", []string{"信息技术", "系统集成"}, []string{"*信息技术服务*信息系统集成服务"}, nil, 42},
	{"I6520", "集成电路设计", []string{"微电子", "芯片设计"}, []string{"*信息技术服务*集成电路设计服务"}, nil, 9},
	{"M7483", "工程设计活动", []string{"工程设计", "建筑设计"}, []string{"*设计服务*工程设计服务"}, []string{"工程设计资质证书"}, 42},
	{"M7320", "工程和技术研究和试验发展", []string{"科技", "技术研究"}, []string{"*研发和技术服务*技术开发服务"}, nil, 42},
	{"K7020", "物业管理", []string{"物业管理", "物业服务"}, []string{"*物业管理服务*物业管理费"}, nil, 36},
	{"K7010", "房地产开发经营", []string{"房地产开发", "置业"}, []string{"*不动产*商品房"}, []string{"房地产开发企业资质证书"}, 36},
	{"D4416", "太阳能发电", []string{"新能源", "光伏发电"}, []string{"*电力*光伏发电上网电量"}, []string{"电力业务许可证"}, 4},
	{"L7259", "其他广告服务", []string{"广告", "文化传媒"}, []string{"*广告服务*广告发布服务"}, nil, 35},
}

// individualIndustries are the classes of the generated individual businesses (个体工商户);
// Words are the kinds of shop.
var individualIndustries = []industry{
	{"H6210", "正餐服务", []string{"餐馆", "饭店", "家常菜馆"}, []string{"*餐饮服务*餐饮服务"}, []string{"食品经营许可证"}, 43},
	{"H6220", "快餐服务", []string{"快餐店", "面馆", "包子铺"}, []string{"*餐饮服务*餐饮服务"}, []string{"食品经营许可证"}, 43},
	{"F5223", "果品、蔬菜零售", []string{"果蔬店", "水果店"}, []string{"*水果*苹果", "*蔬菜*黄瓜"}, []string{"食品经营许可证"}, 31},
	{"F5222", "糕点、面包零售", []string{"面包房", "糕点铺"}, []string{"*焙烤食品*面包"}, []string{"食品经营许可证"}, 30},
	{"F5212", "超级市场零售", []string{"超市", "便利店"}, []string{"*日用杂品*日用品"}, []string{"食品经营许可证"}, 35},
	{"F5281", "五金零售", []string{"五金店", "五金商行"}, []string{"*金属制品*五金工具"}, nil, 8},
	{"F5251", "西药零售", []string{"药房", "大药房"}, []string{"*化学药品制剂*感冒灵颗粒"}, []string{"药品经营许可证"}, 5},
	{"O8040", "理发及美容服务", []string{"理发店", "美发店"}, []string{"*生活服务*美发服务"}, []string{"公共场所卫生许可证"}, 44},
	{"O8030", "洗染服务", []string{"洗衣店", "干洗店"}, []string{"*生活服务*洗涤服务"}, nil, 37},
	{"O8111", "汽车修理与维护", []string{"汽车修理部", "汽修厂"}, []string{"*修理修配劳务*汽车维修"}, nil, 37},
}

// cooperativeIndustries are the classes of the generated farmer cooperatives (农民专业合作社);
// Words are the cooperative's line of business, as in 新民市富民蔬菜种植专业合作社.
var cooperativeIndustries = []industry{
	{"A0141", "蔬菜种植", []string{"蔬菜种植", "设施蔬菜种植"}, []string{"*蔬菜*黄瓜", "*蔬菜*番茄"}, nil, 31},
	{"A0113", "玉米种植", []string{"玉米种植", "粮食种植"}, []string{"*谷物*玉米"}, nil, 31},
	{"A0111", "稻谷种植", []string{"水稻种植"}, []string{"*谷物*稻谷"}, nil, 30},
	{"A0151", "仁果类和核果类水果种植", []string{"果树种植", "苹果种植"}, []string{"*水果*苹果"}, nil, 31},
	{"A0171", "中药材种植", []string{"中药材种植", "人参种植"}, []string{"*中药材*人参"}, nil, 5},
	{"A0313", "猪的饲养", []string{"生猪养殖"}, []string{"*畜牧产品*生猪"}, []string{"动物防疫条件合格证"}, 31},
	{"A0311", "牛的饲养", []string{"肉牛养殖"}, []string{"*畜牧产品*肉牛"}, []string{"动物防疫条件合格证"}, 31},
	{"A0321", "鸡的饲养", []string{"蛋鸡养殖"}, []string{"*禽蛋*鸡蛋"}, []string{"动物防疫条件合格证"}, 29},
	{"A0412", "内陆养殖", []string{"水产养殖", "河蟹养殖"}, []string{"*水产品*河蟹"}, nil, 31},
	{"A0512", "农业机械活动", []string{"农机"}, []string{"*农业服务*农机作业服务"}, nil, 37},
}

// surnames are common Chinese family names, those frequent in the Northeast included.
var surnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡",
	"郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
	"彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
	"魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
	"石", "廖", "贾", "夏", "付", "方", "白", "邹", "孟", "秦", "邱", "江", "尹", "薛", "闫",
	"段", "雷", "侯", "龙", "史", "陶", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严",
	"武", "戴", "孔", "汤", "曲", "关", "佟", "隋", "鞠", "栾", "宫", "车", "那", "富",
}

// givenNames are common given names.
var givenNames = []string{
	"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明",
	"超", "霞", "平", "刚", "秀英", "桂英", "建华", "建国", "国庆", "海燕", "志刚", "志强",
	"春梅", "玉兰", "立新", "晓东", "红梅", "德胜", "宝华", "凤霞", "玉珍", "秀兰", "淑珍",
	"淑华", "丽华", "永刚", "永强", "海涛", "海波", "文博", "晓明", "晓燕", "晓丽", "鹏飞",
	"俊杰", "浩然", "子涵", "欣怡", "雨桐", "一鸣", "天宇", "思远", "佳琪", "梦瑶", "宏伟",
	"振华", "国华", "建军", "福林", "长海", "春生", "金凤", "凤芝", "桂芝", "玉梅", "连生",
	"德明", "成刚", "忠义", "景春", "铁军", "大伟", "丽娟", "雪梅", "宇航", "博文", "秀珍",
	"庆丰", "树林", "宝山", "玉华", "素琴", "亚楠", "冬梅", "立军", "晓峰", "春华", "延庆",
}

// Trade names (字号) are two characters, one from each list.
var (
	tradeFirst = []string{
		"鑫", "华", "恒", "金", "宏", "隆", "永", "瑞", "嘉", "东", "盛", "博", "天", "众", "德",
		"弘", "佳", "海", "腾", "兴", "安", "卓", "聚", "汇", "中", "鼎", "润", "远", "同", "立",
		"锦", "广", "福", "康", "泰", "明", "和", "信", "久", "丰", "百", "万", "新", "长", "伟",
		"正", "光", "宇", "裕", "顺", "益", "昌", "诚", "奥", "北", "凯", "华", "航", "富", "利",
	}
	tradeSecond = []string{
		"鑫", "华", "盛", "达", "通", "泰", "源", "信", "隆", "昌", "利", "丰", "宇", "辉", "成",
		"祥", "瑞", "安", "康", "兴", "发", "和", "博", "远", "航", "诚", "晟", "德", "元", "嘉",
		"创", "峰", "邦", "业", "力", "润", "恒", "胜", "腾", "程", "合", "升", "川", "林", "阳",
	}
)

// Addresses.
var (
	streets = []string{
		"中华路", "人民路", "建设大路", "解放路", "文化路", "青年大街", "北京街", "长江街", "黄河大街",
		"光明路", "胜利街", "新华路", "和平大街", "民主路", "友谊街", "兴工街", "滨河路", "工业路",
		"开发大道", "繁荣街", "幸福路", "振兴街", "学府路", "迎宾路", "站前路", "南京街",
	}
	towns    = []string{"城关", "新城", "大屯", "兴隆", "太平", "前进", "红旗", "东风", "三台子", "大房身", "黄土坎", "小孤山"}
	villages = []string{"前进", "红旗", "新立", "东升", "永安", "三合", "四方台", "大堡", "后屯", "腰站", "二道沟", "五家子"}
)

// Other vocabulary of the records.
var (
	changeItems = []string{"注册资本变更", "法定代表人变更", "住所变更", "经营范围变更", "投资人变更"}
	lawsuits    = []string{
		"买卖合同纠纷", "借款合同纠纷", "建设工程施工合同纠纷", "劳动争议", "房屋租赁合同纠纷",
		"承揽合同纠纷", "金融借款合同纠纷", "运输合同纠纷", "服务合同纠纷", "股权转让纠纷",
	}
	judgmentResults = []string{"原告胜诉", "部分支持原告诉讼请求", "驳回原告诉讼请求", "调解结案", "撤诉"}
	markets         = []string{"日本", "韩国", "俄罗斯", "德国", "美国", "东盟", "中国香港", "蒙古", "印度", "巴西"}
)

// penaltyKinds are reasons and ranges of administrative penalties by severity.
type penaltyKind struct {
	Authority string // see authorityFor
	Reason    string
	Basis     string
	Kind      string // 警告, 罚款, ...
	Min, Max  int64  // fine in yuan
}

// penaltyKinds returns typical penalties of a severity (minor, ordinary or serious).
func penaltyKinds(severity string) []penaltyKind {
	switch severity {
	case "minor":
		return []penaltyKind{
			{"market", "未按规定在经营场所醒目位置公示营业执照（已当场改正）", "《中华人民共和国市场主体登记管理条例》第四十八条", "警告", 0, 0},
			{"market", "商品价格标签标示不规范", "《明码标价和禁止价格欺诈规定》第二十一条", "警告", 0, 0},
			{"tax", "未按照规定期限办理纳税申报", "《中华人民共和国税收征收管理法》第六十二条", "罚款", 50, 2000},
			{"market", "超出登记的经营范围从事一般经营项目，情节轻微", "《中华人民共和国市场主体登记管理条例》第四十六条", "罚款", 500, 3000},
		}
	case "ordinary":
		return []penaltyKind{
			{"market", "销售标签不符合规定的预包装食品", "《中华人民共和国食品安全法》第一百二十五条", "罚款", 5000, 50000},
			{"ecology", "未按照规定对大气污染物排放进行自行监测", "《中华人民共和国大气污染防治法》第一百条", "罚款", 20000, 200000},
			{"emergency", "未如实记录安全生产教育和培训情况", "《中华人民共和国安全生产法》第九十七条", "罚款", 10000, 100000},
			{"market", "发布虚假广告", "《中华人民共和国广告法》第五十五条", "罚款", 20000, 100000},
			{"fire", "消防设施、器材未保持完好有效", "《中华人民共和国消防法》第六十条", "罚款", 5000, 50000},
		}
	case "serious":
		return []penaltyKind{
			{"ecology", "通过逃避监管的方式排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条", "罚款、责令停产整治", 100000, 1000000},
			{"emergency", "对发生的一般生产安全事故负有责任", "《中华人民共和国安全生产法》第一百一十四条", "罚款", 300000, 1000000},
			{"tax", "通过虚假纳税申报少缴税款", "《中华人民共和国税收征收管理法》第六十三条", "追缴税款、罚款", 150000, 2000000},
			{"market", "生产销售不合格产品，货值金额较大", "《中华人民共和国产品质量法》第四十九条", "没收违法所得、罚款", 100000, 800000},
		}
	}
	return nil
}

var abnormalReasons = []string{
	"未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
	"通过登记的住所或者经营场所无法联系",
	"未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息",
	"公示企业信息隐瞒真实情况、弄虚作假",
}

var abnormalRemovals = []string{
	"已补报年度报告并公示",
	"已办理住所变更登记，依法恢复联系",
	"已按要求公示有关企业信息",
}
